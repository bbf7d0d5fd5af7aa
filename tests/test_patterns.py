"""`taller.patterns.ENCODED_COMMAND`: las formas de -EncodedCommand que acepta PowerShell."""

import re

import pytest

from taller.patterns import ENCODED_COMMAND

PAYLOAD = "SQBmACgAJABQAFMAVgBFAHIA"
pattern = re.compile(ENCODED_COMMAND)


@pytest.mark.parametrize(
    "parameter",
    [
        "-e",
        "-E",
        "-ec",
        "-EC",
        "-en",
        "-enc",
        "-ENC",
        "-enco",
        "-encod",
        "-encoded",
        "-encodedc",
        "-encodedcomm",
        "-encodedcommand",
        "-EncodedCommand",
        "/enc",
        "/e",
        "/EncodedCommand",
        "\u2013enc",
        "\u2014e",
        "\u2015EncodedCommand",
    ],
)
def test_every_accepted_spelling_matches(parameter):
    line = f"powershell.exe -NoP -sta -w 1 {parameter}  {PAYLOAD}"
    found = pattern.search(line)
    assert found and found["payload"] == PAYLOAD


@pytest.mark.parametrize("quote", ['"', "'"])
def test_quoted_payload(quote):
    found = pattern.search(f"powershell -enc {quote}{PAYLOAD}={quote}")
    assert found["payload"] == PAYLOAD + "="


@pytest.mark.parametrize(
    "line",
    [
        "powershell -ex bypass -file x.ps1",  # -ExecutionPolicy
        "powershell -ep bypass",
        "powershell -NoProfile -Command Get-Date",
        "powershell -encodedcommandx " + PAYLOAD,  # no es un prefijo
        "powershell -encx " + PAYLOAD,
        "powershell x-enc " + PAYLOAD,  # el guion no empieza una palabra
        "powershell -enc",  # sin argumento
    ],
)
def test_other_parameters_do_not_match(line):
    assert pattern.search(line) is None


def test_the_service_command_of_the_workshop():
    line = (
        "%COMSPEC% /C start /b C:\\Windows\\System32\\WindowsPowershell\\v1.0\\powershell "
        f"-noP -sta -w 1 -enc  {PAYLOAD}AAAA=="
    )
    assert pattern.search(line)["payload"] == PAYLOAD + "AAAA=="
