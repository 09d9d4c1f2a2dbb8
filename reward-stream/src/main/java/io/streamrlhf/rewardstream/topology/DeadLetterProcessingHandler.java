package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.serde.AvroSerdeException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the input record of a processor that threw to {@code <topic>.dlq} (its original bytes, {@code DlqHeaders})
 * and lets the stream go on. A failure with no input record (a punctuation: the batch flush), or of a whole batch
 * ({@link BatchFailedException}), fails the task instead: exactly-once then restores the buffer and nothing is lost
 * or duplicated.
 */
public class DeadLetterProcessingHandler implements ProcessingExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);

    private DeadLetters deadLetters = new DeadLetters(null);

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = DeadLetters.fromConfig(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (AvroSerdeException.isRegistryOutage(exception)) {
            // Not a bad record: the schema registry did not answer. Fail the task; it reads the record again from
            // its last commit (the stream thread is replaced), so nothing is dead-lettered for an outage.
            LOG.warn("schema registry unavailable while reading {}-{}@{}; failing the task to retry: {}",
                    context.topic(), context.partition(), context.offset(), exception.toString());
            return Response.fail();
        }
        if (exception instanceof BatchFailedException || context.topic() == null
                || context.sourceRawValue() == null) {
            LOG.error("processor {} failed outside any input record; failing the task so it restarts from its last "
                    + "commit", context.processorNodeId(), exception);
            return Response.fail();
        }
        LOG.warn("dead-lettering record {}-{}@{} that processor {} could not process: {}", context.topic(),
                context.partition(), context.offset(), context.processorNodeId(), exception.toString());
        return Response.resume(List.of(deadLetters.record(context.topic(), context.partition(), context.offset(),
                context.sourceRawKey(), context.sourceRawValue(), exception, context.headers())));
    }
}
