"""`python -m filterd` is the same as the `filterd` command."""

import sys

from filterd.cli import main

sys.exit(main())
