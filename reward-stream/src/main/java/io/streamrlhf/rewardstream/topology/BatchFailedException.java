package io.streamrlhf.rewardstream.topology;

/**
 * Scoring a whole micro-batch failed for a reason no single record explains (a bug, an output that cannot be
 * written). The {@link DeadLetterProcessingHandler} fails the task for it instead of dead-lettering the record that
 * happened to fill the batch: exactly-once then restarts the task from its last commit, with the batch back in the
 * restored buffer, so nothing is lost or written twice.
 */
final class BatchFailedException extends RuntimeException {
    BatchFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
