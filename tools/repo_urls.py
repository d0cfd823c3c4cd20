"""Point the project's own links in every notebook at `user`, `repo` and `branch` in settings.ini: the Colab
badges and the notebook table's Colab links (`colab.research.google.com/github/USER/REPO/blob/BRANCH/nbs/...`)
and the install commands (`git+https://github.com/USER/REPO`). To publish under another GitHub account or
organisation, change `user` (or `repo`) in settings.ini, then run

    python tools/repo_urls.py && python tools/make_readme.py && nbdev_export

(nbdev takes the docs site's address from the same settings). `tests/test_sync.py` fails while any link
disagrees with the settings."""

import re
from pathlib import Path
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
OWN = r'[\w.-]+/[\w.-]+'


def rewrites(cfg) -> list[tuple[str, str]]:
    "(pattern, replacement) for each kind of link the notebooks carry to this project"
    me = f"{cfg.user}/{cfg.repo}"
    return [
        (
            rf'colab\.research\.google\.com/github/{OWN}/blob/[\w.-]+/nbs/',
            f'colab.research.google.com/github/{me}/blob/{cfg.branch}/nbs/',
        ),
        (rf'git\+https://github\.com/{OWN}(?![\w./-])', f'git+https://github.com/{me}'),
    ]


def fix(text: str, cfg) -> str:
    for pat, new in rewrites(cfg):
        text = re.sub(pat, new, text)
    return text


def stale(root=ROOT) -> list[Path]:
    "Notebooks whose own links disagree with settings.ini"
    cfg = get_config(path=root)
    return [p for p in sorted(cfg.path('nbs_path').glob('*.ipynb')) if fix(p.read_text(), cfg) != p.read_text()]


if __name__ == '__main__':
    cfg = get_config(path=ROOT)
    for p in stale():
        p.write_text(fix(p.read_text(), cfg))
        print(f"updated {p.relative_to(ROOT)}")
    print(f"links point at github.com/{cfg.user}/{cfg.repo} ({cfg.branch})")
