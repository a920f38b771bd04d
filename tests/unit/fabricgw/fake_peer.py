"""An in-process Gateway + Deliver service that records requests and checks their signatures."""

import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (chaincode_event_pb2, events_pb2, events_pb2_grpc, proposal_pb2,
                                proposal_response_pb2, transaction_pb2)
import grpc

from gateway.fabricgw._rpc_status import Status as RpcStatus


def verify(creator: bytes, message: bytes, signature: bytes, algorithm=hashes.SHA256()):
    """Raise unless `signature` over `message` verifies with the creator's certificate."""
    identity = identities_pb2.SerializedIdentity.FromString(creator)
    cert = x509.load_pem_x509_certificate(identity.id_bytes)
    cert.public_key().verify(signature, message, ec.ECDSA(algorithm))


def proposal_creator(signed_proposal) -> bytes:
    proposal = proposal_pb2.Proposal.FromString(signed_proposal.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    return common_pb2.SignatureHeader.FromString(header.signature_header).creator


def endorsed_envelope(channel: str, tx_id: str, result: bytes) -> common_pb2.Envelope:
    """The envelope shape the gateway returns from Endorse, reduced to what the client reads."""
    action = proposal_pb2.ChaincodeAction(response=proposal_response_pb2.Response(status=200, payload=result))
    response_payload = proposal_response_pb2.ProposalResponsePayload(extension=action.SerializeToString())
    action_payload = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString()))
    tx = transaction_pb2.Transaction(actions=[transaction_pb2.TransactionAction(
        payload=action_payload.SerializeToString())])
    channel_header = common_pb2.ChannelHeader(channel_id=channel, tx_id=tx_id, type=common_pb2.ENDORSER_TRANSACTION)
    payload = common_pb2.Payload(header=common_pb2.Header(channel_header=channel_header.SerializeToString()),
                                 data=tx.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


def abort_with_details(context, code, message, details):
    status = RpcStatus(code=code.value[0], message=message)
    for address, msp_id, text in details:
        status.details.add().Pack(gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=text))
    context.set_trailing_metadata([("grpc-status-details-bin", status.SerializeToString())])
    context.abort(code, message)


class FakePeer(gateway_pb2_grpc.GatewayServicer, events_pb2_grpc.DeliverServicer):
    """Fails each call at the stage Fabric does: ``endorse_error`` at Endorse, ``submit_error``
    at Submit (nothing ordered), ``lose_broadcasts`` Submits accepted but never committed (an
    orderer that crashed); CommitStatus waits, as the peer does, until the transaction is
    committed (then answers ``validation_code``) or the call's deadline passes."""

    def __init__(self):
        self.requests = []
        self.result = b"result"
        self.validation_code = transaction_pb2.VALID
        self.endorse_error = None  # (code, message, [(address, msp_id, message)])
        self.submit_error = None  # (code, message, [(address, msp_id, message)])
        self.lose_broadcasts = 0
        self.committed = set()
        self._commits = threading.Condition()
        self.chaincode_events = []  # ChaincodeEventsResponse list to stream
        self.blocks = []  # DeliverResponse list to stream
        self.channel = None
        self.evaluate_delay = None  # threading.Event to wait on (at most 2 s) before answering

    def register(self, server):
        gateway_pb2_grpc.add_GatewayServicer_to_server(self, server)
        events_pb2_grpc.add_DeliverServicer_to_server(self, server)

    def Evaluate(self, request, context):
        self.requests.append(request)
        if self.evaluate_delay:
            self.evaluate_delay.wait(2)
        sp = request.proposed_transaction
        verify(proposal_creator(sp), sp.proposal_bytes, sp.signature)
        return gateway_pb2.EvaluateResponse(result=proposal_response_pb2.Response(status=200, payload=self.result))

    def Endorse(self, request, context):
        self.requests.append(request)
        sp = request.proposed_transaction
        verify(proposal_creator(sp), sp.proposal_bytes, sp.signature)
        if self.endorse_error:
            abort_with_details(context, *self.endorse_error)
        return gateway_pb2.EndorseResponse(
            prepared_transaction=endorsed_envelope(request.channel_id, request.transaction_id, self.result))

    def Submit(self, request, context):
        self.requests.append(request)
        env = request.prepared_transaction
        if not env.signature:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "prepared transaction must be signed")
        if self.submit_error:
            abort_with_details(context, *self.submit_error)
        with self._commits:
            if self.lose_broadcasts:
                self.lose_broadcasts -= 1
            else:
                self.committed.add(request.transaction_id)
                self._commits.notify_all()
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request, context):
        self.requests.append(request)
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        verify(inner.identity, request.request, request.signature)
        with self._commits:
            if not self._commits.wait_for(lambda: inner.transaction_id in self.committed,
                                          context.time_remaining()):
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "context deadline exceeded")
        return gateway_pb2.CommitStatusResponse(result=self.validation_code, block_number=7)

    def ChaincodeEvents(self, request, context):
        self.requests.append(request)
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        verify(inner.identity, request.request, request.signature)
        yield from self.chaincode_events

    def Deliver(self, request_iterator, context):
        envelope = next(request_iterator)
        self.requests.append(envelope)
        payload = common_pb2.Payload.FromString(envelope.payload)
        creator = common_pb2.SignatureHeader.FromString(payload.header.signature_header).creator
        verify(creator, envelope.payload, envelope.signature)
        yield from self.blocks

    DeliverFiltered = Deliver


def chaincode_events_response(block_number, *tx_ids, chaincode="lease"):
    return gateway_pb2.ChaincodeEventsResponse(block_number=block_number, events=[
        chaincode_event_pb2.ChaincodeEvent(chaincode_id=chaincode, tx_id=tx, event_name="E", payload=tx.encode())
        for tx in tx_ids])


def block_response(number):
    return events_pb2.DeliverResponse(block=common_pb2.Block(header=common_pb2.BlockHeader(number=number)))
