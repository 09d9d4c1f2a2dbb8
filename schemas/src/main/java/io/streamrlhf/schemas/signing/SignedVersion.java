package io.streamrlhf.schemas.signing;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;

/**
 * What a version's signature covers: which topic it belongs to, the name, the version, the parent and the manifest's
 * sha256 (which covers every file of the checkpoint), and, for a version that carries its trainer's state (the
 * learner's with a policy version, the online reward-model trainer's with a reward-model version), the state's sha256
 * (a standby or a trainer on a fresh machine resumes from that state, so it must be the signer's). The kind is signed too, so a policy
 * signature cannot be replayed as a reward model's. The URI and chunk indexes are not covered: they say where the
 * bytes are, and the sha256s check what is found there.
 *
 * @param kind          {@code policy} or {@code reward-model}
 * @param name          the model's name (the record key)
 * @param version       its version
 * @param parentVersion its parent, or null
 * @param sha256        lower-case hex SHA-256 of its manifest
 * @param stateSha256   hex SHA-256 of the trainer state published with the version, or null when none
 * @param signature     the Ed25519 signature, or null when unsigned
 * @param keyId         the signing key's id ({@link SigningKeys#keyId}), or null
 */
public record SignedVersion(String kind, String name, long version, Long parentVersion, String sha256,
                            String stateSha256, byte[] signature, String keyId) {

    /** Kind of a {@link PolicyVersion}. */
    public static final String POLICY = "policy";
    /** Kind of a {@link RewardModelVersion}. */
    public static final String REWARD_MODEL = "reward-model";
    private static final String FORMAT = "streamrlhf.version.signature.v1";
    private static final String STATE_TAG = "state-sha256";

    /** Checks the fields. */
    public SignedVersion {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sha256, "sha256");
    }

    /** The signed fields of a policy version. */
    public static SignedVersion of(PolicyVersion v) {
        return new SignedVersion(POLICY, v.getName(), v.getVersion(), v.getParentVersion(), v.getSha256(),
                v.getStateSha256(), bytes(v.getSignature()), v.getSigningKeyId());
    }

    /** The signed fields of a reward-model version. */
    public static SignedVersion of(RewardModelVersion v) {
        return new SignedVersion(REWARD_MODEL, v.getName(), v.getVersion(), v.getParentVersion(), v.getSha256(),
                v.getStateSha256(), bytes(v.getSignature()), v.getSigningKeyId());
    }

    /** "policy chat version 7", for log lines and errors. */
    public String describe() {
        return (POLICY.equals(kind) ? "policy " : "reward model ") + name + " version " + version;
    }

    /**
     * The exact bytes signed: a format tag, then kind, name, version, parent (−1 for none) and sha256 in
     * {@link DataOutputStream} encoding (length-prefixed strings, so no field can run into the next), then the state's
     * sha256 when there is one (so a version without state signs the same bytes as before states were signed).
     */
    public byte[] payload() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(FORMAT);
            out.writeUTF(kind);
            out.writeUTF(name);
            out.writeLong(version);
            out.writeLong(parentVersion == null ? -1 : parentVersion);
            out.writeUTF(sha256.trim().toLowerCase(Locale.ROOT));
            if (stateSha256 != null) {
                out.writeUTF(STATE_TAG);
                out.writeUTF(stateSha256.trim().toLowerCase(Locale.ROOT));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
