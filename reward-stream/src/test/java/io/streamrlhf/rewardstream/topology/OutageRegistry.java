package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.registry.ForwardingSchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/** Forwards to a registry, except that the next {@link #failures} schema fetches fail as if nothing answered. */
final class OutageRegistry extends ForwardingSchemaRegistryClient {
    final AtomicInteger failures = new AtomicInteger();

    OutageRegistry(SchemaRegistryClient delegate) {
        super(delegate);
    }

    @Override
    public Schema schemaById(int id) {
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new SchemaRegistryException("Schema registry unreachable at http://registry:8081 while trying to "
                    + "fetch schema id " + id + ": ConnectException", SchemaRegistryException.UNREACHABLE,
                    SchemaRegistryException.UNREACHABLE);
        }
        return super.schemaById(id);
    }

    @Override
    public String describe() {
        return "outage view of " + super.describe();
    }
}
