package io.streamrlhf.models.tokenizer;

/*
 * CONTRACT: other packages (world, sft, torchscript, producer, learner, reward-stream) code against this
 * interface. Keep its methods stable.
 */

/**
 * Turns text into token ids and back. Ids are dense in {@code [0, vocabSize())}; the special ids
 * (beginning of sequence, end of sequence, padding) are inside that range.
 */
public interface Tokenizer {

    /** Encodes text into token ids, without adding BOS or EOS. */
    int[] encode(String text);

    /**
     * Decodes ids into text. Special tokens (BOS, EOS, PAD) are skipped; an id outside the
     * vocabulary is an {@link IllegalArgumentException} naming the id.
     */
    String decode(int[] ids);

    /** Number of distinct ids, which is the policy's vocabulary size. */
    int vocabSize();

    /** Id that starts a sequence. */
    int bosId();

    /** Id that ends a sequence; the sampler stops a row when it draws it. */
    int eosId();

    /** Id used to fill padded positions; never attended to. */
    int padId();

    /** The surface string of one id (for display and debugging). */
    String token(int id);
}
