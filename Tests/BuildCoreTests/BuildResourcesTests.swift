import BuildCore
import Testing

@Suite struct BuildResourcesTests {
    @Test("sizes print in binary units")
    func formatting() {
        #expect(BuildResources.format(3 << 30) == "3 GiB")
        #expect(BuildResources.format(512 << 20) == "512 MiB")
        #expect(BuildResources.format(1_500_000) == "1.4 MiB")
        #expect(BuildResources.format(100) == "100 bytes")
    }
}
