import ArgumentParser
import ProxCommands

@main
struct Entrypoint {
    static func main() async {
        await ProxAgentCommand.main()
    }
}
