package io.streamrlhf.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports the version from the jar's manifest (the Maven project version), or "development" when run from classes. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Rlhf.class.getPackage().getImplementationVersion();
        return new String[] {"rlhf " + (v == null ? "development" : v), "Java " + Runtime.version()};
    }
}
