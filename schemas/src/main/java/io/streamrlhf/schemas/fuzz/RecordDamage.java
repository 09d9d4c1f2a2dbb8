package io.streamrlhf.schemas.fuzz;

import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;

/**
 * Damaged values for the input topics: one valid record of each input topic's contract
 * ({@link ContractSamples}), serialized in the wire format, then damaged in one of the {@link Kind}s. A consumer
 * must either decode such a value or fail with the documented decode error and dead-letter it; nothing else may
 * escape, and nothing may hang.
 */
public final class RecordDamage {

    /** How a valid value is damaged. */
    public enum Kind {
        /** One to eight random bits flipped anywhere, the framing included. */
        BIT_FLIPS,
        /** Cut at a random length (possibly empty). */
        TRUNCATE,
        /** The schema id in the frame replaced by a random or a small (possibly registered) one. */
        SCHEMA_ID,
        /** A valid record of another (or the same) contract. */
        OTHER_CONTRACT,
        /** The frame kept, the body replaced by up to 255 random bytes. */
        RANDOM_BODY,
        /** A varint claiming a huge or negative size, inserted where a length or count may be read. */
        HOSTILE_LENGTH,
        /** The head of this value joined to the tail of another. */
        SPLICE
    }

    /**
     * One damaged value.
     *
     * @param topic the index of its input topic in {@link #topics()}
     * @param kind  how it was damaged
     * @param bytes the value
     */
    public record Damaged(int topic, Kind kind, byte[] bytes) {
    }

    private final List<TopicSpec<String, ? extends SpecificRecord>> topics;
    private final List<byte[]> valid;

    private RecordDamage(List<TopicSpec<String, ? extends SpecificRecord>> topics, List<byte[]> valid) {
        this.topics = topics;
        this.valid = valid;
    }

    /**
     * The input topics of {@code catalog} and their sample values: {@code prompts}, {@code generations},
     * {@code scored}, {@code feedback}, {@code preferences}, {@code policy.versions}, {@code rm.versions}. Serializing
     * the samples registers their schemas with the catalog's registry.
     */
    @SuppressWarnings("unchecked")
    public static RecordDamage of(Topics catalog) {
        List<TopicSpec<String, ? extends SpecificRecord>> inputs = List.of(catalog.prompts(), catalog.generations(),
                catalog.scored(), catalog.feedback(), catalog.preferences(), catalog.policyVersions(),
                catalog.rmVersions());
        List<SpecificRecord> samples = List.of(ContractSamples.prompt(), ContractSamples.generation(),
                ContractSamples.scored(), ContractSamples.feedback(), ContractSamples.preference(),
                ContractSamples.policyVersion(), ContractSamples.rewardModelVersion());
        List<byte[]> valid = IntStream.range(0, inputs.size()).mapToObj(i -> {
            TopicSpec<String, SpecificRecord> spec = (TopicSpec<String, SpecificRecord>) inputs.get(i);
            return spec.valueSerializer().serialize(spec.name(), samples.get(i));
        }).toList();
        return new RecordDamage(inputs, valid);
    }

    /** The input topics, in the order {@link Damaged#topic()} indexes. */
    public List<TopicSpec<String, ? extends SpecificRecord>> topics() {
        return topics;
    }

    /** The valid serialized sample of topic {@code index}. */
    public byte[] valid(int index) {
        return valid.get(index).clone();
    }

    /** A damaged value of a random topic and kind. */
    public Damaged next(Random random) {
        int topic = random.nextInt(topics.size());
        Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
        return new Damaged(topic, kind, damage(topic, kind, random));
    }

    /** Topic {@code topic}'s valid value damaged in {@code kind}. */
    public byte[] damage(int topic, Kind kind, Random random) {
        byte[] out = valid.get(topic).clone();
        switch (kind) {
            case BIT_FLIPS -> {
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int bit = random.nextInt(out.length * 8);
                    out[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                return out;
            }
            case TRUNCATE -> {
                return Arrays.copyOf(out, random.nextInt(out.length));
            }
            case SCHEMA_ID -> {
                ByteBuffer.wrap(out).putInt(1, random.nextBoolean() ? random.nextInt() : random.nextInt(16));
                return out;
            }
            case OTHER_CONTRACT -> {
                return valid.get(random.nextInt(valid.size())).clone();
            }
            case RANDOM_BODY -> {
                byte[] body = new byte[random.nextInt(256)];
                random.nextBytes(body);
                byte[] framed = Arrays.copyOf(out, 5 + body.length);
                System.arraycopy(body, 0, framed, 5, body.length);
                return framed;
            }
            case HOSTILE_LENGTH -> {
                long[] sizes = {Integer.MAX_VALUE, Long.MAX_VALUE / 2, -1, Integer.MIN_VALUE, 1L << 40, 10_000_000};
                byte[] varint = zigZag(sizes[random.nextInt(sizes.length)]);
                int at = 5 + random.nextInt(Math.max(1, out.length - 5));
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                bytes.write(out, 0, at);
                bytes.write(varint, 0, varint.length);
                bytes.write(out, at, out.length - at);
                return bytes.toByteArray();
            }
            case SPLICE -> {
                byte[] other = valid.get(random.nextInt(valid.size()));
                int cut = random.nextInt(out.length);
                int from = random.nextInt(other.length);
                byte[] spliced = Arrays.copyOf(out, cut + other.length - from);
                System.arraycopy(other, from, spliced, cut, other.length - from);
                return spliced;
            }
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    /** Avro's zig-zag varint encoding of {@code value}. */
    static byte[] zigZag(long value) {
        long n = (value << 1) ^ (value >> 63);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }
}
