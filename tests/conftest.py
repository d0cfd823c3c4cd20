def pytest_addoption(parser):
    parser.addoption('--flags', default='', help="space-separated notebook test flags; 'cuda' leaves the GPU visible to the notebooks")
    parser.addoption('--colab-venv', default=None, help="make or reuse the notebooks' virtual environment here (default: a new one per session)")
    parser.addoption('--colab', action='store_true', help="run the notebooks with what Colab has besides a plain Jupyter")
    parser.addoption('--jobs', type=int, default=2, help="notebooks run at a time, the cores shared out among them")
