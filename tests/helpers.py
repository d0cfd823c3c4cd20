"Support code the tests share (not shipped in the wheel)"

import torch


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module):
    "`a` and `b` hold the same state: the same names, and under each name the same tensor, bit for bit"
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys(), f"names only in one: {sorted(sa.keys() ^ sb.keys())}"
    def same(n):
        return sa[n].dtype == sb[n].dtype and sa[n].shape == sb[n].shape and torch.equal(sa[n], sb[n])

    differ = [n for n in sa if not same(n)]
    assert not differ, f"tensors that differ: {differ}"
