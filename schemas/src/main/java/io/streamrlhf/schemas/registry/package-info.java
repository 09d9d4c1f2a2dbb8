/**
 * Talking to a Confluent-compatible schema registry: the {@link io.streamrlhf.schemas.registry.SchemaRegistryClient}
 * contract, its REST implementation over {@code java.net.http} (Confluent Schema Registry, Apicurio's
 * {@code /apis/ccompat/v7}, others speaking the same API), and an in-memory implementation that enforces
 * compatibility with Avro's own {@code SchemaCompatibility}, for unit tests.
 *
 * <p>Written by hand because Confluent's client ({@code io.confluent:kafka-schema-registry-client}) is not
 * published in Maven Central, the only repository these builds can reach.
 */
package io.streamrlhf.schemas.registry;
