import sys

from tests.benchmarks.perf import main

sys.exit(main())
