from aigc_opt.cli import main

main()
