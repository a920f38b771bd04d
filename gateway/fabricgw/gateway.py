"""The connection to one peer's Gateway service, holding the client identity and signer."""

from __future__ import annotations

import hashlib
from typing import Optional

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2

from . import hashes
from .client import GatewayClient, Timeouts
from .commit import Commit
from .events import BlockEventsRequest, ChaincodeEventsRequest
from .identity import Identity
from .network import Network
from .proposal import Proposal
from .signers import Signer
from .signing_identity import SigningIdentity
from .transaction import Transaction

# Peers accept messages up to 100 MiB; blocks from Deliver or qscc can exceed gRPC's 4 MiB default.
_MAX_MESSAGE_BYTES = 100 * 1024 * 1024


class Gateway:
    """Thread-safe: networks, contracts and calls may be used from many threads at once."""

    def __init__(self, channel: grpc.Channel, identity: Identity, signer: Optional[Signer] = None,
                 hash: hashes.Hash = hashes.sha256, timeouts: Timeouts = Timeouts(),
                 tls_client_certificate_hash: Optional[bytes] = None, owns_channel: bool = False):
        """Use an existing channel (closed by close() only if `owns_channel`)."""
        self.identity = identity
        self._channel = channel
        self._owns_channel = owns_channel
        self._hash = hash
        self._timeouts = timeouts
        self._signing_identity = SigningIdentity(identity, signer, hash)
        self._client = GatewayClient(channel, timeouts)
        self._tls_client_certificate_hash = tls_client_certificate_hash

    def with_identity(self, identity: Identity, signer: Optional[Signer] = None) -> "Gateway":
        """A Gateway acting as another identity over this one's gRPC connection (as the
        official clients connect several identities with one shared client): proposals,
        transactions and commit requests are signed by ``signer`` for ``identity``. Closing
        it leaves the connection open; it belongs to this Gateway."""
        return Gateway(self._channel, identity, signer, self._hash, self._timeouts,
                       self._tls_client_certificate_hash, owns_channel=False)

    @classmethod
    def connect(cls, identity: Identity, signer: Optional[Signer] = None, endpoint: Optional[str] = None,
                tls_root_cert: Optional[bytes] = None, client_cert: Optional[bytes] = None,
                client_key: Optional[bytes] = None, server_name_override: Optional[str] = None,
                channel: Optional[grpc.Channel] = None, hash: hashes.Hash = hashes.sha256,
                evaluate_timeout: Optional[float] = 5, endorse_timeout: Optional[float] = 15,
                submit_timeout: Optional[float] = 5, commit_status_timeout: Optional[float] = 60) -> "Gateway":
        """Open a mutual-TLS channel to `endpoint`, or reuse the caller's `channel`.

        Timeouts are the default deadline in seconds of each stage; each call may override its own.
        """
        timeouts = Timeouts(evaluate_timeout, endorse_timeout, submit_timeout, commit_status_timeout)
        tls_hash = _certificate_hash(client_cert) if client_cert else None
        if channel is not None:
            return cls(channel, identity, signer, hash, timeouts, tls_hash, owns_channel=False)
        if not endpoint or not tls_root_cert:
            raise ValueError("endpoint and tls_root_cert are required unless a channel is given")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=tls_root_cert, private_key=client_key, certificate_chain=client_cert)
        options = [("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                   ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES)]
        if server_name_override:
            options.append(("grpc.ssl_target_name_override", server_name_override))
        return cls(grpc.secure_channel(endpoint, credentials, options), identity, signer, hash, timeouts,
                   tls_hash, owns_channel=True)

    def get_network(self, channel_name: str) -> Network:
        return Network(self._client, self._signing_identity, channel_name, self._tls_client_certificate_hash)

    # Offline signing: rebuild a request from bytes() produced earlier, then attach its signature.

    def new_proposal(self, data: bytes) -> Proposal:
        proposed = gateway_pb2.ProposedTransaction.FromString(data)
        proposal = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_name = common_pb2.ChannelHeader.FromString(header.channel_header).channel_id
        return Proposal(self._client, self._signing_identity, channel_name, proposed)

    def new_signed_proposal(self, data: bytes, signature: bytes) -> Proposal:
        return _signed(self.new_proposal(data), signature)

    def new_transaction(self, data: bytes) -> Transaction:
        return Transaction(self._client, self._signing_identity, gateway_pb2.PreparedTransaction.FromString(data))

    def new_signed_transaction(self, data: bytes, signature: bytes) -> Transaction:
        return _signed(self.new_transaction(data), signature)

    def new_commit(self, data: bytes) -> Commit:
        signed = gateway_pb2.SignedCommitStatusRequest.FromString(data)
        transaction_id = gateway_pb2.CommitStatusRequest.FromString(signed.request).transaction_id
        return Commit(self._client, self._signing_identity, transaction_id, signed)

    def new_signed_commit(self, data: bytes, signature: bytes) -> Commit:
        return _signed(self.new_commit(data), signature)

    def new_chaincode_events_request(self, data: bytes) -> ChaincodeEventsRequest:
        return ChaincodeEventsRequest(self._client, self._signing_identity,
                                      gateway_pb2.SignedChaincodeEventsRequest.FromString(data))

    def new_signed_chaincode_events_request(self, data: bytes, signature: bytes) -> ChaincodeEventsRequest:
        return _signed(self.new_chaincode_events_request(data), signature)

    def new_block_events_request(self, data: bytes, kind: str = "block") -> BlockEventsRequest:
        return BlockEventsRequest(self._client, self._signing_identity, common_pb2.Envelope.FromString(data), kind)

    def new_signed_block_events_request(self, data: bytes, signature: bytes, kind: str = "block") -> BlockEventsRequest:
        return _signed(self.new_block_events_request(data, kind), signature)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _signed(signable, signature: bytes):
    signable.set_signature(signature)
    return signable


def _certificate_hash(cert_pem: bytes) -> bytes:
    """SHA-256 of the client TLS certificate (DER), which peers check in Deliver requests under mutual TLS."""
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).digest()
