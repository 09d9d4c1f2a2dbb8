package io.streamrlhf.schemas.signing;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The signing settings every publisher and reader of {@code policy.versions} and {@code rm.versions} takes from its
 * properties: the key a publisher signs with and the public keys a reader trusts. Unknown keys are ignored here.
 */
public final class VersionSigningConfig extends AbstractConfig {

    public static final String SIGN_KEY = "versions.sign.key";
    public static final String VERIFY_KEYS = "versions.verify.keys";

    /** Every key with its default and doc. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(SIGN_KEY, Type.STRING, "", Importance.HIGH,
                    "PEM (PKCS#8) Ed25519 private key the learner or reward-model trainer signs each version it "
                            + "publishes with ('rlhf keys generate'); empty: versions go out unsigned.")
            .define(VERIFY_KEYS, Type.LIST, "", Importance.HIGH,
                    "Comma-separated PEM (X.509) Ed25519 public keys whose signatures workers and scorers accept. "
                            + "When set, unsigned or wrongly signed versions are refused and the running version "
                            + "keeps serving; a publisher also ignores such versions when it reads its newest. Empty: "
                            + "no check (any writer of the topic can publish a version).");

    /** Reads the settings. */
    public VersionSigningConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
    }

    /** The signer, when a signing key is configured; errors name the key and the file. */
    public Optional<VersionSigner> signer() {
        String file = getString(SIGN_KEY).trim();
        if (file.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(VersionSigner.fromFile(Path.of(file)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(SIGN_KEY, file, e.getMessage());
        }
    }

    /** The verifier of the configured public keys ({@link VersionVerifier#OFF} when none). */
    public VersionVerifier verifier() {
        List<String> files = getList(VERIFY_KEYS).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
        try {
            return VersionVerifier.fromFiles(files.stream().map(Path::of).toList());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(VERIFY_KEYS, String.join(",", files), e.getMessage());
        }
    }

    /**
     * What a publisher trusts when it reads back its newest version: the configured keys and its own signing key's
     * public half; off when it has neither.
     */
    public VersionVerifier publisherVerifier() {
        VersionVerifier v = verifier();
        Optional<VersionSigner> s = signer();
        return s.isPresent() ? v.and(s.get().publicKey()) : v;
    }

    /** Shorthand for {@code new VersionSigningConfig(values).verifier()}. */
    public static VersionVerifier verifier(Map<?, ?> values) {
        return new VersionSigningConfig(values).verifier();
    }
}
