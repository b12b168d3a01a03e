return LsmRaft.Host.Cli.RootCommandFactory.Run(args, new LsmRaft.Host.Node.NodeRunner());
