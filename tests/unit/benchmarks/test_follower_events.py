"""The follower benchmark's events: the chaincode's golden ProjectRegistered, a new project
each, in blocks as asked, every one a row the read model applies."""

from benchmarks.follower import blocks_of_events
from gateway.api import db
from gateway.api.readmodel import ReadModel
from gateway.api.readmodel.follower import APPLIED, DeadLetterWarnings, apply_block
from tests.database import upgraded


def test_blocks_of_golden_project_registrations_all_apply(tmp_path):
    blocks = blocks_of_events(45, 20)
    assert [len(b) for b in blocks] == [20, 20, 5]
    assert [{e.block_number for e in b} for b in blocks] == [{1}, {2}, {3}]
    read_model = ReadModel(db.make_engine(upgraded(f"sqlite:///{tmp_path}/gateway.db")))
    results = [r for b in blocks
               for r in apply_block(read_model, "lease", b, warnings=DeadLetterWarnings())]
    assert results == [APPLIED] * 45
    page = read_model.projects(page_size=100, bookmark=None)
    assert len({p["project_id"] for p in page.records}) == 45
