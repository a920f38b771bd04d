"""Configuration of one org's REST gateway, read from environment variables.

Fabric connection (the gateway signs as one client identity of its org and talks to that org's
own peer through the Fabric Gateway gRPC service):

``CARBONLEASE_MSP_ID``
    MSP id of the gateway's org, e.g. ``LessorMSP``. Required to reach Fabric.
``CARBONLEASE_PEER_ENDPOINT``
    ``host:port`` of the org's peer, e.g. ``localhost:7051``. Required to reach Fabric.
``CARBONLEASE_PEER_TLS_CA``
    PEM file of the CA that signed the peer's TLS certificate. Required to reach Fabric.
``CARBONLEASE_PEER_HOST_OVERRIDE``
    TLS server name to expect from the peer when it differs from the endpoint's host.
``CARBONLEASE_CERT`` / ``CARBONLEASE_KEY``
    PEM files of the signing identity: the X.509 certificate and its private key.
``CARBONLEASE_MSP_DIR``
    Alternative to the two above: an MSP folder (``signcerts/``, ``keystore/``).
``CARBONLEASE_TLS_CERT`` / ``CARBONLEASE_TLS_KEY``
    PEM files of the client TLS certificate and key (the peers require mutual TLS).
``CARBONLEASE_CHANNEL``
    Channel name; default ``carbonlease``.
``CARBONLEASE_EMISSION_CHAINCODE`` / ``CARBONLEASE_LEASE_CHAINCODE``
    Chaincode names on the channel; defaults ``emission`` and ``lease``.

Behaviour:

``CARBONLEASE_DATABASE_URL``
    SQLAlchemy URL of the gateway's own database (API credentials, idempotency records);
    default ``sqlite:///carbonlease-gateway.db`` in the working directory. A PostgreSQL URL
    (``postgresql+psycopg://...``) works once its driver is installed.
``CARBONLEASE_MVCC_RETRIES``
    How many times a write whose commit failed with an MVCC or phantom read conflict is
    endorsed and submitted again; default 4.
``CARBONLEASE_RETRY_BACKOFF_MS``
    Base of the randomised exponential backoff between those attempts; default 50.
``CARBONLEASE_WRITE_DEADLINE``
    Seconds within which every write ends in a definitive answer (committed, or refused with
    a reason), or else 504 ``COMMIT_STATUS_UNKNOWN`` naming the transaction; default 60.
    Meanwhile a transaction sent for ordering and not seen committed is sent again, the same
    signed envelope, every ``CARBONLEASE_RESUBMIT_AFTER`` seconds (default 10).
``CARBONLEASE_IDEMPOTENCY_STALE_AFTER``
    Seconds after which a write still pending under an ``Idempotency-Key`` is presumed
    abandoned by a gateway that died mid-request, so that a retry with the key takes it over
    and finishes it (at most once: see ``gateway.api.idempotency``) instead of answering 409
    ``IDEMPOTENCY_IN_PROGRESS`` for ever; default the write deadline plus 30, more than any
    write of a live gateway takes. Taking over a request that is in fact still running
    stays safe, it only wastes work. (A write that ended with a 504 leaves its key to the
    next retry at once.)
``CARBONLEASE_FOLLOWER_HEARTBEAT``
    Seconds between the read-model follower's heartbeats (default 5). The follower is its own
    process (``python -m gateway.api.readmodel.follower``, same environment); the web app
    shows a chaincode as ``listening`` while its heartbeat is younger than three of these.
``CARBONLEASE_DEAD_LETTERS_KEPT``
    How many dead letters (events the read model could not apply) the follower keeps, the
    newest of every chaincode; it deletes older ones as it records a new one. Default 1000.
    The status and ``/metrics`` still count every dead letter ever recorded.
``CARBONLEASE_SWAGGER_UI_URL``
    Base URL of the Swagger UI assets the page at ``/api/v1/docs`` loads. Default: the
    public jsDelivr CDN copy of ``swagger-ui-dist`` 5. Ignored when the next one is set.
``CARBONLEASE_SWAGGER_UI_DIR``
    A local folder holding ``swagger-ui-dist`` (e.g. ``node_modules/swagger-ui-dist`` after
    ``npm install swagger-ui-dist``); the gateway then serves the assets itself under
    ``/api/v1/docs/assets/`` so the docs work with no internet access.

Serving (read by ``gateway.api.gunicorn_config``, and by the network tool for nginx):

``CARBONLEASE_BIND``
    Where gunicorn listens; default ``127.0.0.1:8080``.
``CARBONLEASE_WORKERS``
    gunicorn worker processes; default 2, one per core of a 2-core host. A request costs
    ~10 ms of Python CPU (JSON, schemas, protobuf, signing) held under one process's GIL, so
    one worker caps the gateway near 100 requests/s whatever its threads; more workers than
    cores only add memory. Each worker opens its own gRPC connection to the peer after the
    fork (never preloaded). With more than one, ``PROMETHEUS_MULTIPROC_DIR`` must name a
    private, writable folder (the network tool uses ``metrics/`` in the gateway's folder and
    empties it at each start) so that ``/metrics`` sums every worker's counters.
``CARBONLEASE_THREADS``
    Threads per worker; default 32. A write holds its thread ~0.5 s while it waits for its
    block, so workers x threads is how many writes are in flight at once: 64 by default,
    the concurrency the consortium is measured at. Requests beyond it wait in nginx's queue.
``CARBONLEASE_TIMEOUT``
    Seconds per request before gunicorn restarts a silent worker; default 120.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

# prometheus_client's own variable: it decides at import whether counters live in files.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
DEFAULT_WRITE_DEADLINE_S = 60.0
DEFAULT_RESUBMIT_AFTER_S = 10.0
# A live gateway answers every write within its deadline; a key pending longer than this
# margin beyond it was left by one that died.
STALE_MARGIN_S = 30.0
DEFAULT_STALE_AFTER_S = DEFAULT_WRITE_DEADLINE_S + STALE_MARGIN_S
DEFAULT_DEAD_LETTERS_KEPT = 1000


@dataclasses.dataclass(frozen=True)
class Serving:
    """How many processes and threads serve the API (see the module's docstring)."""

    workers: int = 2
    threads: int = 32
    timeout_s: int = 120

    @property
    def concurrency(self) -> int:
        """Requests served at once; more wait for a thread."""
        return self.workers * self.threads

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Serving":
        env = os.environ if env is None else env
        serving = cls(workers=int(env.get("CARBONLEASE_WORKERS") or cls.workers),
                      threads=int(env.get("CARBONLEASE_THREADS") or cls.threads),
                      timeout_s=int(env.get("CARBONLEASE_TIMEOUT") or cls.timeout_s))
        if serving.workers < 1 or serving.threads < 1 or serving.timeout_s < 1:
            raise ValueError("CARBONLEASE_WORKERS, CARBONLEASE_THREADS and CARBONLEASE_TIMEOUT "
                             f"must be positive integers, not {serving}")
        return serving


@dataclasses.dataclass(frozen=True)
class FabricSettings:
    """Where the org's peer is and who the gateway signs as."""

    msp_id: str
    peer_endpoint: str
    peer_tls_ca: str
    peer_host_override: str | None
    cert: str | None
    key: str | None
    msp_dir: str | None
    tls_cert: str | None
    tls_key: str | None
    channel: str
    emission_chaincode: str
    lease_chaincode: str


@dataclasses.dataclass(frozen=True)
class Config:
    fabric: FabricSettings | None
    database_url: str
    mvcc_retries: int = 4
    retry_backoff_ms: int = 50
    write_deadline_s: float = DEFAULT_WRITE_DEADLINE_S
    resubmit_after_s: float = DEFAULT_RESUBMIT_AFTER_S
    idempotency_stale_after_s: float = DEFAULT_STALE_AFTER_S
    swagger_ui_url: str = DEFAULT_SWAGGER_UI_URL
    swagger_ui_dir: str | None = None
    follower_heartbeat_s: float = 5.0
    dead_letters_kept: int = DEFAULT_DEAD_LETTERS_KEPT
    metrics_multiprocess_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"CARBONLEASE_{name}")
            return value if value else default

        fabric = None
        # Without the org and its peer the gateway still serves docs, health and credentials;
        # /ready and every ledger route then answer 503.
        if get("MSP_ID") and get("PEER_ENDPOINT") and get("PEER_TLS_CA"):
            fabric = FabricSettings(
                msp_id=get("MSP_ID"),
                peer_endpoint=get("PEER_ENDPOINT"),
                peer_tls_ca=get("PEER_TLS_CA"),
                peer_host_override=get("PEER_HOST_OVERRIDE"),
                cert=get("CERT"),
                key=get("KEY"),
                msp_dir=get("MSP_DIR"),
                tls_cert=get("TLS_CERT"),
                tls_key=get("TLS_KEY"),
                channel=get("CHANNEL", "carbonlease"),
                emission_chaincode=get("EMISSION_CHAINCODE", "emission"),
                lease_chaincode=get("LEASE_CHAINCODE", "lease"),
            )
        write_deadline = float(get("WRITE_DEADLINE", str(DEFAULT_WRITE_DEADLINE_S)))
        return cls(
            fabric=fabric,
            database_url=get("DATABASE_URL", "sqlite:///carbonlease-gateway.db"),
            mvcc_retries=int(get("MVCC_RETRIES", "4")),
            retry_backoff_ms=int(get("RETRY_BACKOFF_MS", "50")),
            write_deadline_s=write_deadline,
            resubmit_after_s=float(get("RESUBMIT_AFTER", str(DEFAULT_RESUBMIT_AFTER_S))),
            idempotency_stale_after_s=float(
                get("IDEMPOTENCY_STALE_AFTER", str(write_deadline + STALE_MARGIN_S))),
            swagger_ui_url=get("SWAGGER_UI_URL", DEFAULT_SWAGGER_UI_URL),
            swagger_ui_dir=get("SWAGGER_UI_DIR"),
            follower_heartbeat_s=float(get("FOLLOWER_HEARTBEAT", "5")),
            dead_letters_kept=int(get("DEAD_LETTERS_KEPT", str(DEFAULT_DEAD_LETTERS_KEPT))),
            metrics_multiprocess_dir=env.get(METRICS_DIR_VARIABLE) or None,
        )

