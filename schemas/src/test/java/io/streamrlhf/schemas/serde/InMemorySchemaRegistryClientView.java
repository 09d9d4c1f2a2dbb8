package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.CompatibilityLevel;
import io.streamrlhf.schemas.registry.CompatibilityResult;
import io.streamrlhf.schemas.registry.RegisteredSchema;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.List;
import org.apache.avro.Schema;

/** Forwards every call to another client; tests override one method to bend the registry's answers. */
class InMemorySchemaRegistryClientView implements SchemaRegistryClient {
    private final SchemaRegistryClient delegate;

    InMemorySchemaRegistryClientView(SchemaRegistryClient delegate) {
        this.delegate = delegate;
    }

    @Override
    public int register(String subject, Schema schema) {
        return delegate.register(subject, schema);
    }

    @Override
    public int lookupId(String subject, Schema schema) {
        return delegate.lookupId(subject, schema);
    }

    @Override
    public Schema schemaById(int id) {
        return delegate.schemaById(id);
    }

    @Override
    public RegisteredSchema latest(String subject) {
        return delegate.latest(subject);
    }

    @Override
    public CompatibilityResult testCompatibility(String subject, Schema schema) {
        return delegate.testCompatibility(subject, schema);
    }

    @Override
    public void setCompatibility(String subject, CompatibilityLevel level) {
        delegate.setCompatibility(subject, level);
    }

    @Override
    public CompatibilityLevel compatibility(String subject) {
        return delegate.compatibility(subject);
    }

    @Override
    public List<String> subjects() {
        return delegate.subjects();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }
}
