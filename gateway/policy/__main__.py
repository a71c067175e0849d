import sys

from gateway.policy.cli import main

sys.exit(main())
