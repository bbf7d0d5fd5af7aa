"""Permite ejecutar ``python -m taller ...`` desde la raíz del repositorio."""

from taller.cli import main

raise SystemExit(main())
