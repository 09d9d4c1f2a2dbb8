/**
 * The contracts every component shares: Avro schemas for every topic (generated {@code SpecificRecord}
 * classes), the immutable topic catalog, and the Confluent-wire-format Avro serde with its schema-registry client.
 */
package io.streamrlhf.schemas;
