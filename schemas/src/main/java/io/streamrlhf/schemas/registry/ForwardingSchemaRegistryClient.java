package io.streamrlhf.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * Forwards every call to another client. A subclass overrides what it changes — a fault injected in a test, a count,
 * a cache — and inherits the rest, instead of every such view restating the whole interface.
 */
public class ForwardingSchemaRegistryClient implements SchemaRegistryClient {
    private final SchemaRegistryClient delegate;

    /** Forwards to {@code delegate}. */
    public ForwardingSchemaRegistryClient(SchemaRegistryClient delegate) {
        this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
    }

    /** The client calls are forwarded to. */
    protected SchemaRegistryClient delegate() {
        return delegate;
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
