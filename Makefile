# Órdenes del taller. Las dos principales, las del README:
#   make book   construye el sitio en _build/html/
#   make test   ejecuta todas las pruebas (cuadernos con nbval, sitio, datos...)
# Quien sigue el taller en su portátil solo necesita `make datasets` y `make lab`.
# Cada objetivo crea el entorno virtual si falta (o lo rehace si quedó a medias)
# y no repite trabajo hecho. Los objetivos van en inglés; lo que dicen, en
# español (véase CONTRIBUTING.md, «Idiomas»).

# Python con el que se crea .venv: el primero de 3.11 (el de los cuadernos) o
# 3.12 que haya; se puede elegir otro con `make ... PYTHON=/ruta/python3.11`.
PYTHON ?= $(or $(shell command -v python3.11 || command -v python3.12),python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Marcas de instalación: se escriben solo cuando la instalación termina bien
# (una instalación cortada se repite entera la vez siguiente) y se rehacen
# cuando cambian los requisitos. RUNTIME: el entorno del alumno
# (requirements.txt y el paquete taller); DEV: además, el del mantenedor.
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev
# Opciones de `jupyter-book build`: el único sitio donde están (las pruebas y
# bench/ construyen el sitio con `make book-only`).
BOOK_FLAGS := -W -n --keep-going
# Espejo local de Security-Datasets (tests/mirror.py dice dónde se busca): si
# existe y no se indica otro TALLER_BASE_URL, los datos se copian de él en lugar
# de descargarse de GitHub.
MIRROR := $(shell $(PYTHON) tests/mirror.py 2>/dev/null)
ifneq ($(MIRROR),)
export TALLER_BASE_URL ?= $(MIRROR)
endif
# Lo mismo para las reglas Sigma de SigmaHQ (taller.sigma): de la copia local.
SIGMA_RULES := $(shell $(PYTHON) tests/mirror.py sigma 2>/dev/null)
ifneq ($(SIGMA_RULES),)
export TALLER_SIGMA_URL ?= $(SIGMA_RULES)
endif

.DEFAULT_GOAL := help
.PHONY: help book book-only test test-fast check format lab datasets datasets-windows bench links \
	system-check python-check venv clean docker-build docker-run

help:
	@echo "Para seguir el taller:"
	@echo "  make datasets      descarga y verifica todos los conjuntos de datos"
	@echo "  make lab           abre JupyterLab con los cuadernos"
	@echo "Para mantenerlo:"
	@echo "  make book          construye el sitio estático en _build/html/"
	@echo "  make test          ejecuta todas las pruebas (incluye make check)"
	@echo "  make datasets-windows  descarga los conjuntos de equipo Windows (página de Sigma)"
	@echo "  make test-fast     solo las pruebas rápidas (capa unit): sin datos ni red, < 30 s"
	@echo "  make check         revisa el código con ruff (errores y formato)"
	@echo "  make format        formatea el código y arregla lo que ruff sabe arreglar"
	@echo "  make bench         mide tiempos y memoria (no es una prueba)"
	@echo "  make links         lista los enlaces externos en _build/enlaces-externos.txt (no los visita)"
	@echo "  make system-check  comprueba los programas del sistema que necesitan las pruebas"
	@echo "  make clean         borra el sitio construido y las cachés"
	@echo "  make docker-build  construye la imagen Docker (entorno, Java y datos)"
	@echo "  make docker-run    abre JupyterLab en Docker en http://127.0.0.1:8888"

# --- Entorno virtual ---------------------------------------------------------

# Python 3.11 o 3.12 con el módulo venv; si no, dice qué instalar.
python-check:
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null || { \
	  echo "Hace falta Python 3.11 o 3.12 (los cuadernos se ejecutan con 3.11) y se encontró:"; \
	  echo "  $(PYTHON): $$($(PYTHON) --version 2>/dev/null || echo 'no está instalado')"; \
	  echo "Instale Python 3.11: en Debian o Ubuntu, sudo apt-get install python3.11 python3.11-venv;"; \
	  echo "en macOS, brew install python@3.11; en Windows, README.md, «En Windows»."; \
	  echo "Si ya lo tiene con otro nombre: make ... PYTHON=/ruta/a/python3.11"; \
	  exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "$(PYTHON) no tiene el módulo venv, que crea el entorno virtual .venv."; \
	  echo "Instálelo: en Debian o Ubuntu, sudo apt-get install python3-venv (o python3.11-venv)."; \
	  exit 1; }

# Crea .venv si falta y lo rehace si quedó a medias (sin python o sin pip que
# funcionen, o con otra versión de Python): borrarlo a mano nunca hace falta.
venv:
	@$(BIN)/python -c 'import sys, pip; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' \
	  >/dev/null 2>&1 || { \
	  $(MAKE) --no-print-directory python-check && \
	  { test ! -e $(VENV) || echo "El entorno $(VENV) está incompleto o es de otra versión de Python: se rehace."; } && \
	  rm -rf $(VENV) && \
	  echo "Creando el entorno virtual $(VENV) con $$($(PYTHON) --version)..." && \
	  $(PYTHON) -m venv $(VENV); }

$(RUNTIME): requirements.txt pyproject.toml | venv
	@echo "Instalando el entorno del alumno (requirements.txt) en $(VENV)."
	@echo "La primera vez descarga unos 610 MB (435 son Spark) y ocupa 1,2 GB; luego no se repite."
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	@touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	@echo "Instalando las herramientas del mantenedor (requirements-dev.txt): libro, pruebas, ruff."
	@echo "La primera vez descarga unos 110 MB más (1,6 GB en total en disco); luego no se repite."
	$(BIN)/python -m pip install --progress-bar on -r requirements-dev.txt
	@touch $@

# --- Para seguir el taller ----------------------------------------------------

# Los conjuntos de las lecciones y el corpus de caza del cuaderno 09.
datasets: $(RUNTIME)
	$(BIN)/python -m taller descargar --todos
	$(BIN)/python -m taller descargar --corpus

# Todos los conjuntos de equipo Windows del catálogo (unos 54 MB comprimidos):
# la página de reglas Sigma del libro evalúa las reglas en todos los que haya
# en la caché y nombra los que falten. Un espejo parcial no los tiene todos: lo
# que no se pueda descargar se avisa y no para la construcción («-»).
datasets-windows: $(RUNTIME)
	-$(BIN)/python -m taller descargar --windows

# La interfaz en español (jupyterlab/install_settings.py) y los cuadernos.
lab: $(RUNTIME)
	$(BIN)/python jupyterlab/install_settings.py
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  $(firstword $(wildcard notebooks/00_*.ipynb) notebooks/01_numpy.ipynb)

# --- Para mantenerlo ------------------------------------------------------------

book: $(DEV) datasets-windows book-only
	@echo "Sitio listo: abra $(CURDIR)/_build/html/index.html"

# El sitio sin comprobar el entorno, con el jupyter-book de BIN; las pruebas
# pasan el suyo (BIN=...) y bench/ una carpeta de salida (BOOK_OUTPUT=...).
book-only:
	$(BIN)/jupyter-book build . $(BOOK_FLAGS) $(if $(BOOK_OUTPUT),--path-output $(BOOK_OUTPUT))

test: $(DEV) system-check check datasets datasets-windows
	$(BIN)/python -m pytest

# La capa unit (tests/conftest.py): sin espejo, sin red y sin programas del sistema.
test-fast: $(DEV)
	$(BIN)/python -m pytest -m unit tests

check: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV) datasets
	$(BIN)/python bench/run.py

links: book
	$(BIN)/python tests/links.py

# Programas del sistema que las pruebas necesitan y pip no instala; la lista
# está en .ci/system-packages, que también usa la integración continua.
system-check:
	@missing="$$(.ci/system-packages)"; \
	if [ -n "$$missing" ]; then \
	  echo "Faltan programas del sistema para las pruebas: $$missing"; \
	  echo "Instálelos con: sudo apt-get install $$missing"; \
	  exit 1; \
	fi

clean:
	rm -rf _build .pytest_cache .ruff_cache test-artifacts build *.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# --- Imagen Docker (docker/Dockerfile); véase README.md, «2. Docker» ----------------
COMPOSE := docker compose -f docker/compose.yaml

# Dentro de la construcción solo vale un TALLER_BASE_URL que sea una dirección
# (el espejo del aula): una carpeta del equipo, como el espejo local que pone
# arriba este Makefile, no existe dentro. Sin dirección, los datos vienen de la
# versión fija de upstream. (Sin Docker, como root: .ci/image, con buildah.)
docker-build:
	TALLER_BASE_URL="$(filter http://% https://%,$(TALLER_BASE_URL))" \
	TALLER_VERSION="$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" $(COMPOSE) build

docker-run:
	@mkdir -p trabajo
	$(COMPOSE) up --detach --wait
	@echo "JupyterLab está en marcha. Ábralo con este enlace (lleva el token de acceso):"
	@$(COMPOSE) logs taller | grep -o 'http://127.0.0.1:8888/lab?token=[0-9a-f]*' | tail -n 1
	@echo "Su trabajo se guarda en trabajo/. Para parar el contenedor: $(COMPOSE) down"
