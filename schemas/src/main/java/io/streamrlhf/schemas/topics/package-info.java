/**
 * The one catalog of topics ({@link io.streamrlhf.schemas.topics.Topics}): every topic's name (a configurable
 * prefix plus a base name spelled only here), key and value serdes, partition count and topic configuration,
 * as immutable {@link io.streamrlhf.schemas.topics.TopicSpec}s; the dead-letter topics and their headers
 * ({@link io.streamrlhf.schemas.topics.DlqHeaders}); the idempotent
 * {@link io.streamrlhf.schemas.topics.TopicCreator}; and {@link io.streamrlhf.schemas.topics.TransactionCommit},
 * how every transactional writer commits.
 */
package io.streamrlhf.schemas.topics;
