import sys

from relocator.entry import main

sys.exit(main())
