/**
 * The Kafka Streams application that scores {@code generations} into {@code scored} with reward-model
 * ensembles (micro-batched, exactly-once v2), normalises rewards, joins {@code feedback} with
 * generations into {@code preferences}, and sends unreadable records to dead-letter topics. Built by
 * the reward-stream issue; nothing here yet.
 */
package io.streamrlhf.rewardstream;
