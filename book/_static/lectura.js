// Una sola búsqueda en cada ancho (incidencia 12). En escritorio, el campo de
// la barra lateral; en el móvil esa barra está plegada y la lupa de la cabecera
// abre el diálogo de búsqueda del tema, con el mismo texto de ejemplo. Sin este
// ajuste, el tema enfoca el campo de la barra lateral plegada y no se ve nada.
document.addEventListener(
  "click",
  (event) => {
    const button = event.target.closest("button.search-button");
    const dialog = document.getElementById("pst-search-dialog");
    if (!button || !dialog) return;
    const field = document.querySelector(":not(#pst-search-dialog) > form.bd-search input");
    const box = field ? field.getBoundingClientRect() : null;
    const fieldVisible =
      box && box.width > 0 && box.height > 0 && getComputedStyle(field).visibility !== "hidden";
    if (fieldVisible) return;
    event.stopImmediatePropagation();
    event.preventDefault();
    if (dialog.open) {
      dialog.close();
    } else {
      dialog.showModal();
    }
  },
  true,
);
