/**
 * The learner's exactly-once state on disk: {@link io.streamrlhf.learner.checkpoint.LearnerCheckpoint}
 * (policy and critic weights, optimiser and reward-scaler state, policy version, the consumer
 * offsets trained up to, and the ledger of trained generation ids) and
 * {@link io.streamrlhf.learner.checkpoint.LearnerCheckpointStore}, which writes them atomically
 * (temporary directory, sha256 manifest, rename) and finds the newest complete one.
 */
package io.streamrlhf.learner.checkpoint;
