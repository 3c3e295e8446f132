/// Prox's version, as provenance names the builder (`runDetails.builder.version.prox`).
public enum ProxVersion {
    public static let current = "0.13.0"
}
