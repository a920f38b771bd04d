"""/health, /ready, /metrics."""

import grpc

from gateway.fabricgw import errors
from fabric_protos.common import ledger_pb2


def test_ready_reports_the_channel_height(client, network):
    network.on("qscc", "GetChainInfo",
               lambda args: ledger_pb2.BlockchainInfo(height=42).SerializeToString())
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "msp_id": "LessorMSP",
                                   "channel_height": 42}
    assert network.calls[0].arguments == ["carbonlease"]


def test_not_ready_when_the_peer_is_unreachable(client, network):
    def down(args):
        raise errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "connection refused")
    network.on("qscc", "GetChainInfo", down)
    response = client.get("/ready")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "NOT_READY" and error["details"]["code"] == "PEER_UNAVAILABLE"


def test_metrics_count_requests_by_route_and_fabric_errors(client, network, as_role):
    def down(args):
        raise errors.EndorseError(grpc.StatusCode.UNAVAILABLE, "down")
    network.on("lease", "ActivateLease", down)
    client.get("/api/v1/projects/p-1", headers=as_role("reader"))
    client.get("/api/v1/projects/p-2", headers=as_role("reader"))
    client.post("/api/v1/leases/l-1/activate", headers=as_role("writer"))
    client.get("/nowhere")
    text = client.get("/metrics").get_data(as_text=True)
    assert ('carbonlease_http_requests_total{method="GET",route="/api/v1/projects/<id:project_id>"'
            ',status="200"} 2.0') in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'carbonlease_fabric_errors_total{code="PEER_UNAVAILABLE"} 1.0' in text
    assert "carbonlease_http_request_duration_seconds_bucket" in text
