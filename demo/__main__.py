"""`python -m demo`: the demo district (see `demo.develop`)."""

import sys

from .develop import main

sys.exit(main())
