import sys

from wncc.cli import main

sys.exit(main())
