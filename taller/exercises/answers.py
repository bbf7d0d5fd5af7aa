"""Las reglas comunes para leer una respuesta, iguales en todos los ejercicios.

Cada ejercicio declara qué tipo de respuesta espera (`Kind`). Antes de que su
comprobación la vea, la respuesta pasa por el conversor de ese tipo, que la
deja en un valor de Python sencillo o la rechaza con un mensaje en español
que nombra lo esperado y lo recibido con el mismo vocabulario en todos los
cuadernos:

============================  ==========================================
Tipo                          Qué se acepta
============================  ==========================================
«un número entero»            ``int`` o entero de NumPy; un decimal sin
                              parte fraccionaria (``3.0``) cuenta como
                              entero. No un texto (``"3"``), ni un valor
                              lógico, ni NaN, ni infinito.
«un número decimal»           ``int`` o ``float`` (o sus tipos de NumPy),
                              finito. No un texto ni una duración
                              (``Timedelta``: pásela a segundos).
«un texto»                    ``str``, sin los espacios de los extremos;
                              no vacío.
«una lista de textos»         lista, tupla, arreglo o serie de textos.
«un arreglo de números»       arreglo, lista o serie de números.
============================  ==========================================

Los textos con forma de número se rechazan siempre (``"3"`` no es
``3``): el taller enseña a distinguir tipos, y el mensaje dice cómo pasar
de uno a otro. Los redondeos siguen el enunciado: si pide «redondeado a N
decimales», la comprobación exige ese redondeo (`rounded`); si no pide
ninguno, acepta el valor sin redondear o redondeado a dos decimales o más
(`close`, tolerancia `TOLERANCE`).

Nada de aquí lanza excepciones por la respuesta, sea lo que sea: los objetos
raros se describen por su tipo, sin llamar a sus métodos.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

# Sin redondeo pedido: vale cualquier valor a menos de media centésima.
TOLERANCE = 0.005


class Refused(Exception):
    """La respuesta no es del tipo esperado; `advice` dice cómo arreglarlo."""

    def __init__(self, advice: str = ""):
        super().__init__(advice)
        self.advice = advice


@dataclass(frozen=True)
class Kind:
    """Un tipo de respuesta: su nombre para el alumno y su conversor."""

    name: str
    convert: Callable[[object], object]


def _numpy():
    import numpy

    return numpy


def _pandas():
    import pandas

    return pandas


def _is(value, *types) -> bool:
    """``isinstance`` que no consulta ``__class__`` (un objeto podría fingirlo)."""
    return issubclass(type(value), types)


def _plain(value) -> str:
    """El texto de `value` (un ``str`` o una subclase suya) como ``str`` normal."""
    return str.__str__(value)


def _type_name(value) -> str:
    try:
        return str(type.__getattribute__(type(value), "__name__"))
    except Exception:
        return "desconocido"


def _items(value) -> list:
    """Los elementos de una lista o tupla, sin llamar a métodos redefinidos."""
    if _is(value, list):
        return list.copy(value)
    return list(tuple.__getitem__(value, slice(None)))


def _quote(text: str, limit: int = 30) -> str:
    text = " ".join(str.split(_plain(text)))
    return f"«{text if len(text) <= limit else text[: limit - 1] + '…'}»"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def describe(value) -> str:
    """Qué es `value`, en español y sin llamar a ninguno de sus métodos."""
    np, pd = _numpy(), _pandas()
    if value is None:
        return "None (nada)"
    if value is Ellipsis:
        return "los puntos suspensivos (...) de la celda de respuesta"
    if _is(value, bool, np.bool_):
        return "un valor lógico (True o False)"
    if _is(value, pd.Timedelta, np.timedelta64) or _type_name(value) == "timedelta":
        return "una duración (Timedelta)"
    if _is(value, int) and abs(int.__int__(value)) > 10**15:
        return "un número entero enorme"
    if _is(value, int, np.integer):
        return "un número entero"
    if _is(value, float, np.floating):
        if math.isnan(value):
            return "NaN, el valor vacío de pandas y NumPy"
        if math.isinf(value):
            return "un infinito"
        return "un número decimal"
    if _is(value, str):
        if not str.strip(value):
            return "un texto vacío"
        return f"el texto {_quote(value)}"
    if _is(value, pd.Timestamp, np.datetime64):
        return "una fecha y hora"
    if _is(value, pd.DataFrame):
        rows, columns = value.shape
        return (
            f"una tabla (DataFrame) de {_count(rows, 'fila', 'filas')} y "
            f"{_count(columns, 'columna', 'columnas')}"
        )
    if _is(value, pd.Series, pd.Index):
        noun = "serie" if _is(value, pd.Series) else "índice"
        if value.dtype == bool or str(value.dtype) == "boolean":
            return f"una máscara (una {noun} de pandas de {len(value)} valores True/False)"
        return f"una {noun} de pandas de {_count(len(value), 'valor', 'valores')}"
    if _is(value, np.ndarray):
        if value.dtype == bool:
            return f"una máscara (un arreglo de NumPy de {value.size} valores True/False)"
        if value.ndim == 0:
            return "un arreglo de NumPy de un solo valor"
        return f"un arreglo de NumPy de {_count(value.size, 'valor', 'valores')}"
    for kind, noun in ((list, "una lista"), (tuple, "una tupla")):
        if _is(value, kind):
            return f"{noun} de {_count(len(_items(value)), 'elemento', 'elementos')}"
    if _is(value, set, frozenset):
        return "un conjunto (set), que no guarda ningún orden"
    if _is(value, dict):
        return "un diccionario"
    return f"un objeto de tipo {_type_name(value)}"


def _one_inside(value) -> object:
    """El único elemento de una lista, tupla, arreglo o serie de uno; si no, nada."""
    np, pd = _numpy(), _pandas()
    if _is(value, list, tuple):
        items = _items(value)
        return items[0] if len(items) == 1 else Ellipsis
    if _is(value, np.ndarray) and value.size == 1 and value.dtype != object:
        return value.reshape(-1)[0].item()
    if _is(value, pd.Series) and len(value) == 1 and value.dtype != object:
        return value.to_numpy().reshape(-1)[0]
    return Ellipsis


def _container_advice(value) -> str:
    np, pd = _numpy(), _pandas()
    if _is(value, pd.Series):
        return (
            "Tiene un solo valor: guárdelo solo, sin la serie (con .iloc[0] o "
            "con int(...) o float(...))."
        )
    if _is(value, np.ndarray):
        return "Tiene un solo valor: guárdelo solo, sin el arreglo (con .item())."
    return "Tiene un solo elemento: guárdelo solo, sin los corchetes."


def _mask_advice(value) -> str:
    np, pd = _numpy(), _pandas()
    if (_is(value, np.ndarray) and value.dtype == bool) or (
        _is(value, pd.Series) and (value.dtype == bool or str(value.dtype) == "boolean")
    ):
        return "Una máscara marca cada fila con True o False; para contar los True, súmela."
    return ""


def _real(value) -> float | int:
    """Un número de Python a partir de los tipos numéricos de Python y NumPy."""
    np = _numpy()
    if _is(value, bool, np.bool_):
        raise Refused("Escriba el número, no una comparación.")
    if _is(value, _pandas().Timedelta, np.timedelta64) or _type_name(value) == "timedelta":
        raise Refused("Pásela a segundos con .total_seconds().")
    if _is(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if _is(value, int):
        return int.__int__(value)
    if _is(value, np.integer):
        return int(value)
    if _is(value, float, np.floating):
        value = float.__float__(value) if _is(value, float) else float(value)
        if math.isnan(value):
            raise Refused(
                "NaN es lo que queda cuando no hay dato: revise que la columna "
                "o el filtro no estén vacíos."
            )
        if math.isinf(value):
            raise Refused("Revise la división: un infinito sale de dividir entre cero.")
        return value
    if _is(value, str):
        if _looks_numeric(_plain(value)):
            raise Refused(
                "Es un número entre comillas: guárdelo sin comillas, o "
                "conviértalo con int(...) o float(...)."
            )
        raise Refused()
    inside = _one_inside(value)
    if inside is not Ellipsis and _is(inside, int, float, np.integer, np.floating):
        raise Refused(_container_advice(value))
    raise Refused(_mask_advice(value) or "Guarde un solo número.")


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def integer(value) -> int:
    """Un número entero; un decimal sin parte fraccionaria (3.0) también vale."""
    number = _real(value)
    if _is(number, float):
        if not number.is_integer():
            raise Refused(
                "Un recuento no tiene decimales: revise si ha dividido o "
                "calculado una media en lugar de contar."
            )
        return int(number)
    return number


def decimal(value) -> float:
    """Un número decimal finito (un entero también vale)."""
    number = _real(value)
    try:
        return float(number)
    except OverflowError:
        raise Refused("Es un número demasiado grande para ser la respuesta.") from None


def text(value) -> str:
    """Un texto no vacío, sin los espacios de los extremos."""
    np = _numpy()
    if _is(value, str):
        stripped = _plain(str.strip(value))
        if not stripped:
            raise Refused("Escriba la respuesta entre comillas.")
        return stripped
    inside = _one_inside(value)
    if inside is not Ellipsis and _is(inside, str, np.str_):
        raise Refused(_container_advice(value))
    if _is(value, int, float, np.integer, np.floating) and not _is(value, bool, np.bool_):
        raise Refused("Escriba la respuesta como texto, entre comillas.")
    raise Refused("Guarde un solo texto, entre comillas.")


def texts(value) -> list[str]:
    """Una lista de textos (también tupla, arreglo, serie o índice de pandas)."""
    np, pd = _numpy(), _pandas()
    if _is(value, str):
        raise Refused('Ponga los textos entre corchetes: ["uno", "otro"].')
    if _is(value, set, frozenset):
        raise Refused("Un conjunto no tiene orden: conviértalo en una lista ordenada.")
    if _is(value, np.ndarray, pd.Series, pd.Index):
        if value.ndim != 1:
            raise Refused("Guarde una lista de una sola dimensión.")
        items = value.tolist()
    elif _is(value, list, tuple):
        items = _items(value)
    else:
        raise Refused()
    for item in items:
        if not _is(item, str):
            raise Refused(
                f"Uno de sus elementos no es un texto: es {describe(item)}. "
                "¿Quedó un valor vacío (NaN) en la columna?"
            )
    return [_plain(str.strip(item)) for item in items]


def numbers(value) -> list[float]:
    """Un arreglo (o lista, tupla, serie) de una dimensión con números."""
    np, pd = _numpy(), _pandas()
    if _is(value, np.ndarray, pd.Series):
        if value.ndim != 1:
            raise Refused("Guarde un arreglo de una sola dimensión.")
        if value.dtype == bool:
            raise Refused(
                "Eso es la máscara; úsela como índice para quedarse con los valores que cumplen."
            )
        items = value.tolist()
    elif _is(value, list, tuple):
        items = _items(value)
    else:
        if _is(value, int, float, np.integer, np.floating):
            raise Refused("Se pide un arreglo con todos los valores, no uno solo.")
        raise Refused()
    result = []
    for item in items:
        try:
            result.append(decimal(item))
        except Refused:
            raise Refused(
                f"Uno de sus elementos no sirve como número: es {describe(item)}."
            ) from None
    return result


INTEGER = Kind("un número entero", integer)
DECIMAL = Kind("un número decimal", decimal)
TEXT = Kind("un texto", text)
TEXTS = Kind("una lista de textos", texts)
NUMBERS = Kind("un arreglo de números", numbers)


def rounded(value: float, expected: float, digits: int) -> bool:
    """¿Es `value` el valor esperado redondeado a `digits` decimales, como pide el enunciado?"""
    return math.isclose(value, round(expected, digits), rel_tol=0, abs_tol=1e-9)


def close(value: float, expected: float) -> bool:
    """¿Coincide `value` con el esperado sin redondear o redondeado a dos decimales o más?"""
    return abs(value - expected) <= TOLERANCE + 1e-9
