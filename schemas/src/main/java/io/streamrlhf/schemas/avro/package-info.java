/**
 * The Avro contracts of every topic, generated at build time from {@code src/main/avro/*.avsc} (shared
 * types such as {@link io.streamrlhf.schemas.avro.ConversationTurn} live in {@code src/main/avro/common}).
 * Only this file is hand-written here; edit the {@code .avsc} files, never the generated classes, and keep
 * every change BACKWARD compatible (new fields need a default).
 */
package io.streamrlhf.schemas.avro;
