return LsmRaft.Host.Cli.RootCommandFactory.Run(args);
