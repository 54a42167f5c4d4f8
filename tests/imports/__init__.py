from pathlib import Path

import teahub

# The catalog fixture (52 teas in the fixture format), as packaged for the demo.
CATALOG_CSV = Path(teahub.__file__).parent / "demo" / "teas.csv"
