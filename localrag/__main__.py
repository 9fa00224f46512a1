from localrag.cli import main

main()
