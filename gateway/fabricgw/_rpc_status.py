"""google.rpc.Status, which Fabric puts in the grpc-status-details-bin trailer.

googleapis-common-protos is not a dependency, so the three-field message is declared here in a
private descriptor pool; a private pool cannot clash with that package if it is installed later.
"""

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

_pool = descriptor_pool.DescriptorPool()
_pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)

_file = descriptor_pb2.FileDescriptorProto(
    name="carbonlease/google/rpc/status.proto",
    package="google.rpc",
    syntax="proto3",
    dependency=["google/protobuf/any.proto"],
)
_status = _file.message_type.add(name="Status")
_F = descriptor_pb2.FieldDescriptorProto
_status.field.add(name="code", number=1, type=_F.TYPE_INT32, label=_F.LABEL_OPTIONAL)
_status.field.add(name="message", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
_status.field.add(
    name="details", number=3, type=_F.TYPE_MESSAGE, label=_F.LABEL_REPEATED,
    type_name=".google.protobuf.Any",
)
_pool.Add(_file)

Status = message_factory.GetMessageClass(_pool.FindMessageTypeByName("google.rpc.Status"))
