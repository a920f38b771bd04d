"""`up` takes group and other permissions off an older run folder."""

import stat

from network import config
from network.network import Network


def test_up_makes_an_older_run_folder_private(tmp_path):
    home = tmp_path / "network"
    key = home / "crypto" / "org" / "keystore" / "priv_sk"
    key.parent.mkdir(parents=True, mode=0o755)
    key.write_text("secret")
    key.chmod(0o644)
    (home / "link").symlink_to(key)
    Network(config.load(), config.Layout(home))._make_private()
    for path in [home, *home.rglob("*")]:
        if not path.is_symlink():
            assert not path.lstat().st_mode & 0o077, f"{path} {stat.filemode(path.stat().st_mode)}"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
