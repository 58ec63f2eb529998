import sys

from relocator.cli.entry import main

sys.exit(main())
