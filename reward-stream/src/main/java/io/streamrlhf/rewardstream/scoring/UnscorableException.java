package io.streamrlhf.rewardstream.scoring;

/**
 * One input the ensemble cannot give a reward: a source returned NaN or an infinity, or a source needed by the
 * ensemble failed. The reward stream dead-letters the record with this exception's class and message.
 */
public class UnscorableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnscorableException(String message, Throwable cause) {
        super(message, cause);
    }
}
