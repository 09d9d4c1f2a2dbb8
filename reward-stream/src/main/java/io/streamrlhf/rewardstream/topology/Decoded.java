package io.streamrlhf.rewardstream.topology;

/**
 * A record value as read from its topic: the decoded value and the exact bytes it was decoded from, so downstream
 * processors can buffer or dead-letter the original bytes without serializing the value again.
 *
 * @param value the decoded value
 * @param raw   the value's bytes as they were on the topic
 * @param <V>   the value type
 */
record Decoded<V>(V value, byte[] raw) {
}
