package io.streamrlhf.schemas.chunks;

/**
 * The URI of a version's chunks, {@code kafka:<checkpoints topic>/<prefix>/<version>}. The prefix is the policy's
 * name, {@code rm/<name>} for a reward model, {@code learner-state/<name>} for the learner's resumable state at a
 * policy version, or {@code rm-trainer-state/<ensemble>} for the online reward-model trainer's resumable state at a
 * reward-model version, and may itself hold slashes: the topic ends at the first slash, the
 * version begins after the last.
 *
 * @param topic   the checkpoints topic (with its prefix)
 * @param prefix  the key prefix of the chunks
 * @param version the version
 */
public record ChunkUri(String topic, String prefix, long version) {
    /** The scheme of chunk URIs. */
    public static final String SCHEME = "kafka:";
    /** Key prefix of reward-model chunks: {@code rm/<name>}, apart from the policies' names. */
    public static final String REWARD_MODEL_PREFIX = "rm/";
    /** Key prefix of the learner's state chunks: {@code learner-state/<policy name>}, apart from the weights'. */
    public static final String LEARNER_STATE_PREFIX = "learner-state/";
    /** Key prefix of the online reward-model trainer's state chunks: {@code rm-trainer-state/<ensemble name>}. */
    public static final String RM_TRAINER_STATE_PREFIX = "rm-trainer-state/";

    /** Whether {@code uri} names chunks on Kafka. */
    public static boolean isChunkUri(String uri) {
        return uri != null && uri.startsWith(SCHEME);
    }

    /**
     * Parses a {@code kafka:} URI.
     *
     * @throws IllegalArgumentException naming the URI and what is wrong with it
     */
    public static ChunkUri parse(String uri) {
        if (!isChunkUri(uri)) {
            throw new IllegalArgumentException("'" + uri + "' is not a kafka: checkpoint URI");
        }
        String rest = uri.substring(SCHEME.length());
        int firstSlash = rest.indexOf('/');
        int lastSlash = rest.lastIndexOf('/');
        if (firstSlash <= 0 || lastSlash <= firstSlash + 1) {
            throw new IllegalArgumentException("'" + uri + "': expected kafka:<topic>/<name>/<version>");
        }
        try {
            return new ChunkUri(rest.substring(0, firstSlash), rest.substring(firstSlash + 1, lastSlash),
                    Long.parseLong(rest.substring(lastSlash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + uri + "': '" + rest.substring(lastSlash + 1)
                    + "' is not a version number");
        }
    }

    /** The key prefix of reward model {@code name}'s chunks. */
    public static String rewardModelPrefix(String name) {
        return REWARD_MODEL_PREFIX + name;
    }

    /** The key prefix of the chunks of policy {@code name}'s learner state. */
    public static String learnerStatePrefix(String name) {
        return LEARNER_STATE_PREFIX + name;
    }

    /** The key prefix of the chunks of online reward-model trainer {@code ensemble}'s state. */
    public static String rmTrainerStatePrefix(String ensemble) {
        return RM_TRAINER_STATE_PREFIX + ensemble;
    }

    /** Key of chunk {@code chunk} of a version. */
    public static String chunkKey(String prefix, long version, int chunk) {
        return prefix + "/" + version + "/" + chunk;
    }

    /** Key of a version's chunk-count record. */
    public static String countKey(String prefix, long version) {
        return prefix + "/" + version + "/count";
    }

    @Override
    public String toString() {
        return SCHEME + topic + "/" + prefix + "/" + version;
    }
}
