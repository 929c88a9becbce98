"""The order stream: order events through a Kinesis data stream and a Firehose delivery stream
into the raw zone (on AWS), or through the local Kinesis server and the local deliverer
(here), by the same boto3 code. The modules are imported one by one: the stream_delivered
handler reads the settings on Lambda, which has none of the producer's dependencies."""
