def pytest_addoption(parser):
    parser.addoption('--flags', default='', help="space-separated notebook test flags; 'cuda' leaves the GPU visible to the notebooks")
    parser.addoption('--colab-venv', default=None, help="make or reuse the notebooks' virtual environment here (default: a new one per session)")
