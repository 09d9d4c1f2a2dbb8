/**
 * The learner's exactly-once state on disk: {@link io.streamrlhf.learner.checkpoint.LearnerCheckpoint}
 * (policy and critic weights, optimiser and reward-scaler state, policy version, the consumer
 * offsets trained up to, and the chain of ledger segments of trained generation ids),
 * {@link io.streamrlhf.learner.checkpoint.LearnerCheckpointStore}, which writes them atomically
 * (temporary directory, sha256 manifest, rename), finds the newest complete one, and packs a version with its ledger
 * into one archive (and installs one) for the learner state that travels through Kafka,
 * {@link io.streamrlhf.learner.checkpoint.SegmentedLedger}, the immutable, merged ledger segments
 * the checkpoints share, and {@link io.streamrlhf.learner.checkpoint.DedupWindow}, the bounded set
 * of consumed ids a learner may read again.
 */
package io.streamrlhf.learner.checkpoint;
