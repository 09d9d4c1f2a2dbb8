/**
 * The Avro serde in Confluent's wire format: magic byte {@code 0}, the writer schema's registry id as four
 * big-endian bytes, then the Avro binary encoding. Kafka {@code Serializer}/{@code Deserializer}/{@code Serde}
 * classes for specific (generated, typed) and generic records, configured from a map with Confluent's key
 * names ({@link io.streamrlhf.schemas.serde.AvroSerdeConfig}), and the subject naming strategies.
 *
 * <p>Written by hand because Confluent's {@code kafka-avro-serializer} is not published in Maven Central; the
 * bytes are the same, so Confluent's deserializers, ksqlDB and Kafka Connect read what this writes.
 * Failures surface as Kafka's {@link org.apache.kafka.common.errors.SerializationException} naming the topic,
 * the schema id and what was wrong; {@link io.streamrlhf.schemas.serde.AvroSerdeException#locate} adds partition and
 * offset where the caller knows them.
 */
package io.streamrlhf.schemas.serde;
