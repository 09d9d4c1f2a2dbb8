package io.streamrlhf.schemas.signing;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks that a version was signed by one of the trusted public keys. With no keys it is {@linkplain #OFF off} and
 * accepts every version (the behaviour before signing existed); with keys, an unsigned version, one signed by an
 * unknown key, or one whose signature does not match its fields is refused.
 */
public final class VersionVerifier {

    /** Accepts every version: no keys are configured. */
    public static final VersionVerifier OFF = new VersionVerifier(List.of());

    private final Map<String, PublicKey> keys = new LinkedHashMap<>();

    /** A verifier trusting {@code keys}; none means off. */
    public VersionVerifier(Collection<PublicKey> keys) {
        for (PublicKey k : keys) {
            this.keys.put(SigningKeys.keyId(k), k);
        }
    }

    /** A verifier trusting the X.509 PEM public keys in {@code files}. */
    public static VersionVerifier fromFiles(List<Path> files) {
        return new VersionVerifier(files.stream().map(SigningKeys::readPublic).toList());
    }

    /** This verifier's keys plus {@code more} (a publisher trusts its own key too). */
    public VersionVerifier and(PublicKey more) {
        List<PublicKey> all = new java.util.ArrayList<>(keys.values());
        all.add(more);
        return new VersionVerifier(all);
    }

    /** Whether any key is configured, so that versions are checked at all. */
    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** The ids of the trusted keys. */
    public List<String> keyIds() {
        return List.copyOf(keys.keySet());
    }

    /** Why {@code version} is refused, or empty when it verifies (or verification is off). */
    public Optional<String> refusal(PolicyVersion version) {
        return refusal(SignedVersion.of(version));
    }

    /** Why {@code version} is refused, or empty when it verifies (or verification is off). */
    public Optional<String> refusal(RewardModelVersion version) {
        return refusal(SignedVersion.of(version));
    }

    /** Why {@code version} is refused, or empty when it verifies (or verification is off). */
    public Optional<String> refusal(SignedVersion version) {
        if (!enabled()) {
            return Optional.empty();
        }
        if (version.signature() == null || version.signature().length == 0) {
            return Optional.of("it is unsigned and verification keys are configured");
        }
        List<PublicKey> candidates;
        if (version.keyId() != null) {
            PublicKey k = keys.get(version.keyId());
            if (k == null) {
                return Optional.of("it is signed by key " + version.keyId() + ", which is not among the trusted keys "
                        + keys.keySet());
            }
            candidates = List.of(k);
        } else {
            candidates = List.copyOf(keys.values());
        }
        for (PublicKey k : candidates) {
            if (verifies(k, version)) {
                return Optional.empty();
            }
        }
        return Optional.of("its signature does not match its fields (name, version, parent, sha256, state sha256) under key "
                + (version.keyId() != null ? version.keyId() : "any of " + keys.keySet()));
    }

    /** Whether {@code version} verifies (always, when off). */
    public boolean verifies(SignedVersion version) {
        return refusal(version).isEmpty();
    }

    private static boolean verifies(PublicKey key, SignedVersion version) {
        try {
            Signature s = Signature.getInstance(SigningKeys.ALGORITHM);
            s.initVerify(key);
            s.update(version.payload());
            return s.verify(version.signature());
        } catch (GeneralSecurityException e) {
            return false;  // a malformed signature is a wrong one
        }
    }
}
