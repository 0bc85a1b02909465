"""``python -m autograd_lite`` is the ``autograd-lite`` command."""
from autograd_lite.cli import main

raise SystemExit(main())
