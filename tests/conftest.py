def pytest_addoption(parser):
    parser.addoption(
        '--flags',
        default='',
        help="space-separated notebook test flags; 'cuda' leaves the GPU visible to the notebooks",
    )
    parser.addoption(
        '--colab-venv',
        default=None,
        help="make or reuse the notebooks' virtual environment here (default: a new one per session)",
    )
    parser.addoption(
        '--colab', action='store_true', help="run the notebooks with what Colab has besides a plain Jupyter"
    )
    parser.addoption(
        '--refuse',
        default='triton',
        help="modules the notebooks cannot import, as where they are not installed (default: triton, which GitHub's "
        "CPU torch lacks; '' for none)",
    )
    parser.addoption('--jobs', type=int, default=2, help="notebooks run at a time, the cores shared out among them")


def pytest_terminal_summary(terminalreporter, config):
    "Which torch the notebooks ran (tests/test_notebooks.py), and each one's own time, slowest first"
    if hasattr(config, 'notebooks_torch'):
        terminalreporter.write_line(f"the notebooks ran {config.notebooks_torch}")
    times = sorted(getattr(config, 'notebook_seconds', {}).items(), key=lambda kv: -kv[1])
    if times:
        terminalreporter.write_line(
            "notebooks, seconds each (two at a time): " + ', '.join(f"{k} {v:.0f}" for k, v in times)
        )
